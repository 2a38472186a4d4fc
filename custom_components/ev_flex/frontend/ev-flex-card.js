var F=globalThis,z=F.ShadowRoot&&(F.ShadyCSS===void 0||F.ShadyCSS.nativeShadow)&&"adoptedStyleSheets"in Document.prototype&&"replace"in CSSStyleSheet.prototype,j=Symbol(),ct=new WeakMap,M=class{constructor(t,e,s){if(this._$cssResult$=!0,s!==j)throw Error("CSSResult is not constructable. Use `unsafeCSS` or `css` instead.");this.cssText=t,this.t=e}get styleSheet(){let t=this.o,e=this.t;if(z&&t===void 0){let s=e!==void 0&&e.length===1;s&&(t=ct.get(e)),t===void 0&&((this.o=t=new CSSStyleSheet).replaceSync(this.cssText),s&&ct.set(e,t))}return t}toString(){return this.cssText}},ht=i=>new M(typeof i=="string"?i:i+"",void 0,j),T=(i,...t)=>{let e=i.length===1?i[0]:t.reduce((s,r,o)=>s+(n=>{if(n._$cssResult$===!0)return n.cssText;if(typeof n=="number")return n;throw Error("Value passed to 'css' function must be a 'css' function result: "+n+". Use 'unsafeCSS' to pass non-literal values, but take care to ensure page security.")})(r)+i[o+1],i[0]);return new M(e,i,j)},lt=(i,t)=>{if(z)i.adoptedStyleSheets=t.map(e=>e instanceof CSSStyleSheet?e:e.styleSheet);else for(let e of t){let s=document.createElement("style"),r=F.litNonce;r!==void 0&&s.setAttribute("nonce",r),s.textContent=e.cssText,i.appendChild(s)}},q=z?i=>i:i=>i instanceof CSSStyleSheet?(t=>{let e="";for(let s of t.cssRules)e+=s.cssText;return ht(e)})(i):i;var{is:Ut,defineProperty:Ot,getOwnPropertyDescriptor:Ht,getOwnPropertyNames:Ft,getOwnPropertySymbols:zt,getPrototypeOf:Lt}=Object,L=globalThis,dt=L.trustedTypes,It=dt?dt.emptyScript:"",Bt=L.reactiveElementPolyfillSupport,N=(i,t)=>i,K={toAttribute(i,t){switch(t){case Boolean:i=i?It:null;break;case Object:case Array:i=i==null?i:JSON.stringify(i)}return i},fromAttribute(i,t){let e=i;switch(t){case Boolean:e=i!==null;break;case Number:e=i===null?null:Number(i);break;case Object:case Array:try{e=JSON.parse(i)}catch{e=null}}return e}},ut=(i,t)=>!Ut(i,t),pt={attribute:!0,type:String,converter:K,reflect:!1,useDefault:!1,hasChanged:ut};Symbol.metadata??=Symbol("metadata"),L.litPropertyMetadata??=new WeakMap;var b=class extends HTMLElement{static addInitializer(t){this._$Ei(),(this.l??=[]).push(t)}static get observedAttributes(){return this.finalize(),this._$Eh&&[...this._$Eh.keys()]}static createProperty(t,e=pt){if(e.state&&(e.attribute=!1),this._$Ei(),this.prototype.hasOwnProperty(t)&&((e=Object.create(e)).wrapped=!0),this.elementProperties.set(t,e),!e.noAccessor){let s=Symbol(),r=this.getPropertyDescriptor(t,s,e);r!==void 0&&Ot(this.prototype,t,r)}}static getPropertyDescriptor(t,e,s){let{get:r,set:o}=Ht(this.prototype,t)??{get(){return this[e]},set(n){this[e]=n}};return{get:r,set(n){let h=r?.call(this);o?.call(this,n),this.requestUpdate(t,h,s)},configurable:!0,enumerable:!0}}static getPropertyOptions(t){return this.elementProperties.get(t)??pt}static _$Ei(){if(this.hasOwnProperty(N("elementProperties")))return;let t=Lt(this);t.finalize(),t.l!==void 0&&(this.l=[...t.l]),this.elementProperties=new Map(t.elementProperties)}static finalize(){if(this.hasOwnProperty(N("finalized")))return;if(this.finalized=!0,this._$Ei(),this.hasOwnProperty(N("properties"))){let e=this.properties,s=[...Ft(e),...zt(e)];for(let r of s)this.createProperty(r,e[r])}let t=this[Symbol.metadata];if(t!==null){let e=litPropertyMetadata.get(t);if(e!==void 0)for(let[s,r]of e)this.elementProperties.set(s,r)}this._$Eh=new Map;for(let[e,s]of this.elementProperties){let r=this._$Eu(e,s);r!==void 0&&this._$Eh.set(r,e)}this.elementStyles=this.finalizeStyles(this.styles)}static finalizeStyles(t){let e=[];if(Array.isArray(t)){let s=new Set(t.flat(1/0).reverse());for(let r of s)e.unshift(q(r))}else t!==void 0&&e.push(q(t));return e}static _$Eu(t,e){let s=e.attribute;return s===!1?void 0:typeof s=="string"?s:typeof t=="string"?t.toLowerCase():void 0}constructor(){super(),this._$Ep=void 0,this.isUpdatePending=!1,this.hasUpdated=!1,this._$Em=null,this._$Ev()}_$Ev(){this._$ES=new Promise(t=>this.enableUpdating=t),this._$AL=new Map,this._$E_(),this.requestUpdate(),this.constructor.l?.forEach(t=>t(this))}addController(t){(this._$EO??=new Set).add(t),this.renderRoot!==void 0&&this.isConnected&&t.hostConnected?.()}removeController(t){this._$EO?.delete(t)}_$E_(){let t=new Map,e=this.constructor.elementProperties;for(let s of e.keys())this.hasOwnProperty(s)&&(t.set(s,this[s]),delete this[s]);t.size>0&&(this._$Ep=t)}createRenderRoot(){let t=this.shadowRoot??this.attachShadow(this.constructor.shadowRootOptions);return lt(t,this.constructor.elementStyles),t}connectedCallback(){this.renderRoot??=this.createRenderRoot(),this.enableUpdating(!0),this._$EO?.forEach(t=>t.hostConnected?.())}enableUpdating(t){}disconnectedCallback(){this._$EO?.forEach(t=>t.hostDisconnected?.())}attributeChangedCallback(t,e,s){this._$AK(t,s)}_$ET(t,e){let s=this.constructor.elementProperties.get(t),r=this.constructor._$Eu(t,s);if(r!==void 0&&s.reflect===!0){let o=(s.converter?.toAttribute!==void 0?s.converter:K).toAttribute(e,s.type);this._$Em=t,o==null?this.removeAttribute(r):this.setAttribute(r,o),this._$Em=null}}_$AK(t,e){let s=this.constructor,r=s._$Eh.get(t);if(r!==void 0&&this._$Em!==r){let o=s.getPropertyOptions(r),n=typeof o.converter=="function"?{fromAttribute:o.converter}:o.converter?.fromAttribute!==void 0?o.converter:K;this._$Em=r;let h=n.fromAttribute(e,o.type);this[r]=h??this._$Ej?.get(r)??h,this._$Em=null}}requestUpdate(t,e,s,r=!1,o){if(t!==void 0){let n=this.constructor;if(r===!1&&(o=this[t]),s??=n.getPropertyOptions(t),!((s.hasChanged??ut)(o,e)||s.useDefault&&s.reflect&&o===this._$Ej?.get(t)&&!this.hasAttribute(n._$Eu(t,s))))return;this.C(t,e,s)}this.isUpdatePending===!1&&(this._$ES=this._$EP())}C(t,e,{useDefault:s,reflect:r,wrapped:o},n){s&&!(this._$Ej??=new Map).has(t)&&(this._$Ej.set(t,n??e??this[t]),o!==!0||n!==void 0)||(this._$AL.has(t)||(this.hasUpdated||s||(e=void 0),this._$AL.set(t,e)),r===!0&&this._$Em!==t&&(this._$Eq??=new Set).add(t))}async _$EP(){this.isUpdatePending=!0;try{await this._$ES}catch(e){Promise.reject(e)}let t=this.scheduleUpdate();return t!=null&&await t,!this.isUpdatePending}scheduleUpdate(){return this.performUpdate()}performUpdate(){if(!this.isUpdatePending)return;if(!this.hasUpdated){if(this.renderRoot??=this.createRenderRoot(),this._$Ep){for(let[r,o]of this._$Ep)this[r]=o;this._$Ep=void 0}let s=this.constructor.elementProperties;if(s.size>0)for(let[r,o]of s){let{wrapped:n}=o,h=this[r];n!==!0||this._$AL.has(r)||h===void 0||this.C(r,void 0,o,h)}}let t=!1,e=this._$AL;try{t=this.shouldUpdate(e),t?(this.willUpdate(e),this._$EO?.forEach(s=>s.hostUpdate?.()),this.update(e)):this._$EM()}catch(s){throw t=!1,this._$EM(),s}t&&this._$AE(e)}willUpdate(t){}_$AE(t){this._$EO?.forEach(e=>e.hostUpdated?.()),this.hasUpdated||(this.hasUpdated=!0,this.firstUpdated(t)),this.updated(t)}_$EM(){this._$AL=new Map,this.isUpdatePending=!1}get updateComplete(){return this.getUpdateComplete()}getUpdateComplete(){return this._$ES}shouldUpdate(t){return!0}update(t){this._$Eq&&=this._$Eq.forEach(e=>this._$ET(e,this[e])),this._$EM()}updated(t){}firstUpdated(t){}};b.elementStyles=[],b.shadowRootOptions={mode:"open"},b[N("elementProperties")]=new Map,b[N("finalized")]=new Map,Bt?.({ReactiveElement:b}),(L.reactiveElementVersions??=[]).push("2.1.2");var tt=globalThis,_t=i=>i,I=tt.trustedTypes,gt=I?I.createPolicy("lit-html",{createHTML:i=>i}):void 0,xt="$lit$",w=`lit$${Math.random().toFixed(9).slice(2)}$`,bt="?"+w,Vt=`<${bt}>`,E=document,D=()=>E.createComment(""),U=i=>i===null||typeof i!="object"&&typeof i!="function",et=Array.isArray,Wt=i=>et(i)||typeof i?.[Symbol.iterator]=="function",G=`[ 	
\f\r]`,R=/<(?:(!--|\/[^a-zA-Z])|(\/?[a-zA-Z][^>\s]*)|(\/?$))/g,mt=/-->/g,ft=/>/g,A=RegExp(`>|${G}(?:([^\\s"'>=/]+)(${G}*=${G}*(?:[^ 	
\f\r"'\`<>=]|("|')|))|$)`,"g"),$t=/'/g,vt=/"/g,wt=/^(?:script|style|textarea|title)$/i,st=i=>(t,...e)=>({_$litType$:i,strings:t,values:e}),_=st(1),m=st(2),me=st(3),k=Symbol.for("lit-noChange"),c=Symbol.for("lit-nothing"),yt=new WeakMap,S=E.createTreeWalker(E,129);function At(i,t){if(!et(i)||!i.hasOwnProperty("raw"))throw Error("invalid template strings array");return gt!==void 0?gt.createHTML(t):t}var jt=(i,t)=>{let e=i.length-1,s=[],r,o=t===2?"<svg>":t===3?"<math>":"",n=R;for(let h=0;h<e;h++){let a=i[h],p,u,l=-1,$=0;for(;$<a.length&&(n.lastIndex=$,u=n.exec(a),u!==null);)$=n.lastIndex,n===R?u[1]==="!--"?n=mt:u[1]!==void 0?n=ft:u[2]!==void 0?(wt.test(u[2])&&(r=RegExp("</"+u[2],"g")),n=A):u[3]!==void 0&&(n=A):n===A?u[0]===">"?(n=r??R,l=-1):u[1]===void 0?l=-2:(l=n.lastIndex-u[2].length,p=u[1],n=u[3]===void 0?A:u[3]==='"'?vt:$t):n===vt||n===$t?n=A:n===mt||n===ft?n=R:(n=A,r=void 0);let v=n===A&&i[h+1].startsWith("/>")?" ":"";o+=n===R?a+Vt:l>=0?(s.push(p),a.slice(0,l)+xt+a.slice(l)+w+v):a+w+(l===-2?h:v)}return[At(i,o+(i[e]||"<?>")+(t===2?"</svg>":t===3?"</math>":"")),s]},O=class i{constructor({strings:t,_$litType$:e},s){let r;this.parts=[];let o=0,n=0,h=t.length-1,a=this.parts,[p,u]=jt(t,e);if(this.el=i.createElement(p,s),S.currentNode=this.el.content,e===2||e===3){let l=this.el.content.firstChild;l.replaceWith(...l.childNodes)}for(;(r=S.nextNode())!==null&&a.length<h;){if(r.nodeType===1){if(r.hasAttributes())for(let l of r.getAttributeNames())if(l.endsWith(xt)){let $=u[n++],v=r.getAttribute(l).split(w),y=/([.?@])?(.*)/.exec($);a.push({type:1,index:o,name:y[2],strings:v,ctor:y[1]==="."?J:y[1]==="?"?X:y[1]==="@"?Q:P}),r.removeAttribute(l)}else l.startsWith(w)&&(a.push({type:6,index:o}),r.removeAttribute(l));if(wt.test(r.tagName)){let l=r.textContent.split(w),$=l.length-1;if($>0){r.textContent=I?I.emptyScript:"";for(let v=0;v<$;v++)r.append(l[v],D()),S.nextNode(),a.push({type:2,index:++o});r.append(l[$],D())}}}else if(r.nodeType===8)if(r.data===bt)a.push({type:2,index:o});else{let l=-1;for(;(l=r.data.indexOf(w,l+1))!==-1;)a.push({type:7,index:o}),l+=w.length-1}o++}}static createElement(t,e){let s=E.createElement("template");return s.innerHTML=t,s}};function C(i,t,e=i,s){if(t===k)return t;let r=s!==void 0?e._$Co?.[s]:e._$Cl,o=U(t)?void 0:t._$litDirective$;return r?.constructor!==o&&(r?._$AO?.(!1),o===void 0?r=void 0:(r=new o(i),r._$AT(i,e,s)),s!==void 0?(e._$Co??=[])[s]=r:e._$Cl=r),r!==void 0&&(t=C(i,r._$AS(i,t.values),r,s)),t}var Z=class{constructor(t,e){this._$AV=[],this._$AN=void 0,this._$AD=t,this._$AM=e}get parentNode(){return this._$AM.parentNode}get _$AU(){return this._$AM._$AU}u(t){let{el:{content:e},parts:s}=this._$AD,r=(t?.creationScope??E).importNode(e,!0);S.currentNode=r;let o=S.nextNode(),n=0,h=0,a=s[0];for(;a!==void 0;){if(n===a.index){let p;a.type===2?p=new H(o,o.nextSibling,this,t):a.type===1?p=new a.ctor(o,a.name,a.strings,this,t):a.type===6&&(p=new Y(o,this,t)),this._$AV.push(p),a=s[++h]}n!==a?.index&&(o=S.nextNode(),n++)}return S.currentNode=E,r}p(t){let e=0;for(let s of this._$AV)s!==void 0&&(s.strings!==void 0?(s._$AI(t,s,e),e+=s.strings.length-2):s._$AI(t[e])),e++}},H=class i{get _$AU(){return this._$AM?._$AU??this._$Cv}constructor(t,e,s,r){this.type=2,this._$AH=c,this._$AN=void 0,this._$AA=t,this._$AB=e,this._$AM=s,this.options=r,this._$Cv=r?.isConnected??!0}get parentNode(){let t=this._$AA.parentNode,e=this._$AM;return e!==void 0&&t?.nodeType===11&&(t=e.parentNode),t}get startNode(){return this._$AA}get endNode(){return this._$AB}_$AI(t,e=this){t=C(this,t,e),U(t)?t===c||t==null||t===""?(this._$AH!==c&&this._$AR(),this._$AH=c):t!==this._$AH&&t!==k&&this._(t):t._$litType$!==void 0?this.$(t):t.nodeType!==void 0?this.T(t):Wt(t)?this.k(t):this._(t)}O(t){return this._$AA.parentNode.insertBefore(t,this._$AB)}T(t){this._$AH!==t&&(this._$AR(),this._$AH=this.O(t))}_(t){this._$AH!==c&&U(this._$AH)?this._$AA.nextSibling.data=t:this.T(E.createTextNode(t)),this._$AH=t}$(t){let{values:e,_$litType$:s}=t,r=typeof s=="number"?this._$AC(t):(s.el===void 0&&(s.el=O.createElement(At(s.h,s.h[0]),this.options)),s);if(this._$AH?._$AD===r)this._$AH.p(e);else{let o=new Z(r,this),n=o.u(this.options);o.p(e),this.T(n),this._$AH=o}}_$AC(t){let e=yt.get(t.strings);return e===void 0&&yt.set(t.strings,e=new O(t)),e}k(t){et(this._$AH)||(this._$AH=[],this._$AR());let e=this._$AH,s,r=0;for(let o of t)r===e.length?e.push(s=new i(this.O(D()),this.O(D()),this,this.options)):s=e[r],s._$AI(o),r++;r<e.length&&(this._$AR(s&&s._$AB.nextSibling,r),e.length=r)}_$AR(t=this._$AA.nextSibling,e){for(this._$AP?.(!1,!0,e);t!==this._$AB;){let s=_t(t).nextSibling;_t(t).remove(),t=s}}setConnected(t){this._$AM===void 0&&(this._$Cv=t,this._$AP?.(t))}},P=class{get tagName(){return this.element.tagName}get _$AU(){return this._$AM._$AU}constructor(t,e,s,r,o){this.type=1,this._$AH=c,this._$AN=void 0,this.element=t,this.name=e,this._$AM=r,this.options=o,s.length>2||s[0]!==""||s[1]!==""?(this._$AH=Array(s.length-1).fill(new String),this.strings=s):this._$AH=c}_$AI(t,e=this,s,r){let o=this.strings,n=!1;if(o===void 0)t=C(this,t,e,0),n=!U(t)||t!==this._$AH&&t!==k,n&&(this._$AH=t);else{let h=t,a,p;for(t=o[0],a=0;a<o.length-1;a++)p=C(this,h[s+a],e,a),p===k&&(p=this._$AH[a]),n||=!U(p)||p!==this._$AH[a],p===c?t=c:t!==c&&(t+=(p??"")+o[a+1]),this._$AH[a]=p}n&&!r&&this.j(t)}j(t){t===c?this.element.removeAttribute(this.name):this.element.setAttribute(this.name,t??"")}},J=class extends P{constructor(){super(...arguments),this.type=3}j(t){this.element[this.name]=t===c?void 0:t}},X=class extends P{constructor(){super(...arguments),this.type=4}j(t){this.element.toggleAttribute(this.name,!!t&&t!==c)}},Q=class extends P{constructor(t,e,s,r,o){super(t,e,s,r,o),this.type=5}_$AI(t,e=this){if((t=C(this,t,e,0)??c)===k)return;let s=this._$AH,r=t===c&&s!==c||t.capture!==s.capture||t.once!==s.once||t.passive!==s.passive,o=t!==c&&(s===c||r);r&&this.element.removeEventListener(this.name,this,s),o&&this.element.addEventListener(this.name,this,t),this._$AH=t}handleEvent(t){typeof this._$AH=="function"?this._$AH.call(this.options?.host??this.element,t):this._$AH.handleEvent(t)}},Y=class{constructor(t,e,s){this.element=t,this.type=6,this._$AN=void 0,this._$AM=e,this.options=s}get _$AU(){return this._$AM._$AU}_$AI(t){C(this,t)}};var qt=tt.litHtmlPolyfillSupport;qt?.(O,H),(tt.litHtmlVersions??=[]).push("3.3.3");var St=(i,t,e)=>{let s=e?.renderBefore??t,r=s._$litPart$;if(r===void 0){let o=e?.renderBefore??null;s._$litPart$=r=new H(t.insertBefore(D(),o),o,void 0,e??{})}return r._$AI(i),r};var rt=globalThis,x=class extends b{constructor(){super(...arguments),this.renderOptions={host:this},this._$Do=void 0}createRenderRoot(){let t=super.createRenderRoot();return this.renderOptions.renderBefore??=t.firstChild,t}update(t){let e=this.render();this.hasUpdated||(this.renderOptions.isConnected=this.isConnected),super.update(t),this._$Do=St(e,this.renderRoot,this.renderOptions)}connectedCallback(){super.connectedCallback(),this._$Do?.setConnected(!0)}disconnectedCallback(){super.disconnectedCallback(),this._$Do?.setConnected(!1)}render(){return k}};x._$litElement$=!0,x.finalized=!0,rt.litElementHydrateSupport?.({LitElement:x});var Kt=rt.litElementPolyfillSupport;Kt?.({LitElement:x});(rt.litElementVersions??=[]).push("4.2.2");var g={left:40,right:34,top:20,bottom:22},Gt=[1,2,3,4,6,12,24],Zt=44,f=i=>new Date(i).getTime();function Jt(i,t){let e=new Intl.DateTimeFormat("en-GB",{hour:"numeric",hourCycle:"h23",timeZone:t}).formatToParts(i);return Number(e.find(s=>s.type==="hour")?.value??i.getHours())}function Xt(i,t){let s=(t-i||1)/3,r=10**Math.floor(Math.log10(s)),o=[1,2,2.5,5,10].map(a=>a*r).find(a=>a>=s)||s,n=[],h=Math.ceil(t/o-1e-9);for(let a=Math.floor(i/o+1e-9);a<=h;a+=1)n.push(Number((a*o).toPrecision(12)));return n}function Qt(i,t,e){let s=i.prices||[],r=i.plan?.slots||[],o=[...s.map(d=>f(d.start)),...r.map(d=>f(d.start))],n=[...s.map(d=>f(d.end)),...r.map(d=>f(d.end))],h=Math.min(...o),a=Math.max(...n),p=s.map(d=>d.price),u=Xt(Math.min(0,...p),Math.max(...p,.01)),l=u[0],$=u[u.length-1],v=t-g.right,y=e-g.bottom,W=y-g.top,at=r.some(d=>d.discharge_kw>0)?g.top+W*.72:y,Dt=Math.max(...r.map(d=>Math.max(d.charge_kw||0,d.discharge_kw||0)),.1);return{t0:h,t1:a,ticks:u,plotRight:v,plotBottom:y,zero:at,x:d=>g.left+(d-h)/(a-h||1)*(v-g.left),price:d=>y-(d-l)/($-l||1)*W,soc:d=>y-d/100*W,kw:d=>d/Dt*(at-g.top)*.62}}function Yt(i,t,e){let s=(i.t1-i.t0)/36e5,r=(i.plotRight-g.left)/(s||1),o=Gt.find(h=>h*r>=Zt)||24,n=[];for(let h=Math.ceil(i.t0/36e5)*36e5;h<=i.t1;h+=36e5){let a=new Date(h);Jt(a,e)%o===0&&n.push({x:i.x(h),label:t.hour(a)})}return n}function te(i,t){let e="";for(let s of i.prices||[]){let r=t.price(s.price);e+=e?` V${r.toFixed(1)}`:`M${t.x(f(s.start)).toFixed(1)} ${r.toFixed(1)}`,e+=` H${t.x(f(s.end)).toFixed(1)}`}return e}function Et(i){let t=i.plan?.slots||[],e=s=>Math.max(0,...t.map(r=>Number.isFinite(r[s])?r[s]:0));return{charge:e("charge_kw"),discharge:e("discharge_kw")}}function ee(i,t){let e=[];for(let s of i.plan?.slots||[]){let r=t.x(f(s.start)),o=Math.max(1,t.x(f(s.end))-r-.5);if(s.charge_kw>0){let n=t.kw(s.charge_kw);e.push({kind:"charge",start:s.start,kw:s.charge_kw,x:r,y:t.zero-n,width:o,height:n})}if(s.discharge_kw>0){let n=t.kw(s.discharge_kw);e.push({kind:"discharge",start:s.start,kw:s.discharge_kw,x:r,y:t.zero,width:o,height:n})}}return e}function se(i,t){return ee(i,t).map(e=>m`<rect class=${e.kind} data-start=${e.start} data-kw=${e.kw}
      x=${e.x.toFixed(1)} y=${e.y.toFixed(1)} width=${e.width.toFixed(1)} height=${e.height.toFixed(1)}></rect>`)}function re(i,t){let e=i.prices||[];if(!e.length)return null;let s=Math.max(...e.map(r=>f(r.end)));return s<t.t1?t.x(s):null}function ie(i,t){let e=re(i,t);if(e==null)return c;let s=t.plotRight-e;return m`<g class="guessed">
    <rect x=${e} y=${g.top} width=${s} height=${t.plotBottom-g.top}></rect>
    ${s>70?m`<text x=${e+4} y=${g.top+12}>prices not yet known</text>`:c}
  </g>`}function ne(i,t){let e=i.plan?.slots||[];if(!e.length)return"";let s=i.soc_pct??e[0].soc_pct_end,r=[`${t.x(f(e[0].start)).toFixed(1)},${t.soc(s).toFixed(1)}`];for(let o of e)o.soc_pct_end!=null&&r.push(`${t.x(f(o.end)).toFixed(1)},${t.soc(o.soc_pct_end).toFixed(1)}`);return r.join(" ")}function oe(i,t,e){if(!i.departure)return c;let s=f(i.departure);if(s<t.t0||s>t.t1)return c;let r=t.x(s),o=i.target_soc_pct??i.plan?.summary?.target_soc_pct,n=r>t.plotRight-60?"end":"middle";return m`<g class="departure">
    <line x1=${r} x2=${r} y1=${g.top} y2=${t.plotBottom}></line>
    ${o==null?c:m`<circle cx=${r} cy=${t.soc(o)} r="4"></circle>`}
    <text x=${r} y=${g.top-6} text-anchor=${n}>${e.time(i.departure)}${o==null?"":` · ${e.percent(o)}`}</text>
  </g>`}function ae(i,t){let e=t.getTime();if(e<i.t0||e>i.t1)return c;let s=i.x(e);return m`<g class="now"><line x1=${s} x2=${s} y1=${g.top} y2=${i.plotBottom}></line>
    <text x=${s+3} y=${i.plotBottom-4}>now</text></g>`}function kt(i,{width:t,formats:e,timeZone:s,now:r=new Date}){if(!i.prices?.length&&!i.plan?.slots?.length)return c;let o=t<500?190:230,n=Qt(i,t,o),h=ne(i,n);return m`<svg class="chart" viewBox="0 0 ${t} ${o}" width=${t} height=${o} role="img"
      aria-label="Prices and the charging plan">
    <g class="grid">
      ${n.ticks.map(a=>m`<line x1=${g.left} x2=${n.plotRight} y1=${n.price(a)} y2=${n.price(a)}></line>
        <text class="axis" x=${g.left-4} y=${n.price(a)+3} text-anchor="end">${e.price(a)}</text>`)}
      ${[0,50,100].map(a=>m`<text class="axis soc-axis" x=${n.plotRight+4} y=${n.soc(a)+3}>${a}%</text>`)}
      ${Yt(n,e,s).map(a=>m`<text class="axis" x=${a.x} y=${n.plotBottom+15} text-anchor="middle">${a.label}</text>`)}
    </g>
    ${ie(i,n)}
    <g class="bars">${se(i,n)}</g>
    <path class="price" d=${te(i,n)}></path>
    ${h?m`<polyline class="soc" points=${h}></polyline>`:c}
    ${ae(n,r)}
    ${oe(i,n,e)}
  </svg>`}var B=class extends x{static properties={hass:{attribute:!1},_config:{state:!0},_vehicles:{state:!0}};setConfig(t){this._config=t}updated(){this.hass&&this._vehicles===void 0&&(this._vehicles=null,this.hass.callWS({type:"ev_flex/vehicles"}).then(t=>this._vehicles=t).catch(()=>this._vehicles=[]))}_schema(){return[{name:"device_id",required:!0,selector:{select:{mode:"dropdown",options:(this._vehicles||[]).map(e=>({value:e.device_id,label:e.name}))}}}]}_changed(t){let e={...this._config,...t.detail.value};this.dispatchEvent(new CustomEvent("config-changed",{detail:{config:e},bubbles:!0,composed:!0}))}render(){return!this.hass||!this._config?_``:Array.isArray(this._vehicles)&&!this._vehicles.length?_`<p class="empty">EV Flex has no vehicle yet: add one under Settings → Devices &amp; services.</p>`:_`<ha-form
      .hass=${this.hass}
      .data=${this._config}
      .schema=${this._schema()}
      .computeLabel=${()=>"Vehicle"}
      @value-changed=${this._changed}
    ></ha-form>`}static styles=T`
    .empty {
      color: var(--secondary-text-color);
    }
  `};function it(i){return i?.locale?.time_zone==="server"&&i?.config?.time_zone||void 0}var V=class{constructor(t){let e=t?.locale?.language||t?.language||"en",s=it(t),r=t?.locale?.time_format==="12"?!0:t?.locale?.time_format==="24"?!1:void 0;this._time=new Intl.DateTimeFormat(e,{hour:"2-digit",minute:"2-digit",hour12:r,timeZone:s}),this._hour=new Intl.DateTimeFormat(e,{hour:"2-digit",hour12:r,timeZone:s}),this._day=new Intl.DateTimeFormat(e,{weekday:"short",timeZone:s}),this._dateKey=new Intl.DateTimeFormat("en-CA",{year:"numeric",month:"2-digit",day:"2-digit",timeZone:s}),this._money=new Intl.NumberFormat(e,{minimumFractionDigits:2,maximumFractionDigits:2}),this._whole=new Intl.NumberFormat(e,{maximumFractionDigits:0}),this._price=new Intl.NumberFormat(e,{minimumFractionDigits:2,maximumFractionDigits:2}),this._power=new Intl.NumberFormat(e,{maximumFractionDigits:1})}time(t){return this._time.format(new Date(t))}hour(t){return this._hour.format(t)}moment(t,e=new Date){let s=new Date(t);return this._dateKey.format(s)===this._dateKey.format(e)?this.time(t):`${this._day.format(s)} ${this.time(t)}`}money(t){return this._money.format(t)}price(t){return this._price.format(t)}power(t){return`${this._power.format(t)} kW`}percent(t){return`${this._whole.format(t)} %`}};function nt(i,t,e){return t>0?`${i} (up to ${e.power(t)})`:`${i} (kW)`}var Ct={not_found:"This vehicle is not (or no longer) in EV Flex. Pick another vehicle in the card's settings.",no_vehicle:"Pick a vehicle in the card's settings.",unavailable:"EV Flex is not running for this vehicle right now (it may be reloading).",no_reading:"No battery level from the car yet: the plan appears once the car reports one.",no_prices:"No electricity prices yet: pick a price sensor in EV Flex's options, or wait for today's prices.",no_plan:"No plan yet: EV Flex plans as soon as it knows the battery size, the battery level and the prices."};function Tt(i){return Ct[i]||Ct.unavailable}function ce(i){let e=(i.plan?.summary?.switch_times||[]).find(s=>(s.mode||"charge")==="charge");return e?{start:e.start,end:e.end}:i.next_start?{start:i.next_start,end:i.next_stop}:null}function Pt(i,t){let e=i.estimated_cost,s=i.charge_now_cost;if(e==null||s==null||!(s>0))return"";let r=`costs ${t.money(e)} ${i.currency}`,o=Math.round((s-e)/s*100);return o>=1?`${r}, ${t.percent(o)} less than now`:r}var Mt={behind:"Charging now to catch up: at the planned pace the car would not be ready on time.",protective:"Charging now: the battery is below your protective minimum.",probe:"Charging for a moment to measure the car's real charging power.",no_capacity:"Charging at once: the car does not report its battery size, so EV Flex cannot plan.",away:"The car is away from its charging location: smart charging waits until it is back.",no_readings:"Waiting for the car to report its battery level.",waiting_for_soc:"Waiting for the car to report its battery level.",pause_for_soc:"Pausing until the car reports its new battery level.",demand_response:"Discharging on request (a demand-response event), never below the reserve.",demand_response_reserve:"Holding the reserve for a demand-response request."};function Nt(i,t,e=new Date){if(i.status!=="disabled"&&Mt[i.reason])return Mt[i.reason];let s=i.status||"unknown",r=ce(i),o=r?`${t.moment(r.start,e)}–${t.time(r.end)}`:"";switch(s){case"disabled":case"plan_ended_disabled":return"Smart charging is off: the car charges as soon as it is plugged in.";case"plan_executing_stopped":case"plan_executing_stopped_awaiting_prices":{if(!r)return"Waiting: nothing needs charging before the departure.";let n=Pt(i,t);return`Waiting for cheaper prices: charging ${o}${n?` ${n}`:""}.`}case"plan_executing_starting":case"plan_executing_started":{let n=r?.end?` until ${t.time(r.end)}`:"",h=Pt(i,t);return`Charging now, in the cheapest hours${n}${h?`: the plan ${h}`:""}.`}case"plan_executing_stopping":return"Stopping the charge: the cheap hours are over for now.";case"plan_executing_charging_now":return"Charging now, as you asked, until the target or until you cancel.";case"plan_executing_overridden":return"Someone else took over charging (an app or the car's own schedule). Cancel the override to follow the plan again.";case"plan_executing_discharging":return"Discharging to the grid while prices are high, never below the reserve.";case"plan_executing_start_failed":case"plan_executing_stop_failed":case"plan_executing_charge_interrupted":case"plan_ended_failed":return"The car or charger did not follow the last command; EV Flex keeps trying.";case"plan_ended_unplugged":return"The car is unplugged: the plan starts again when it is plugged in.";case"plan_ended_finished":case"fully_charged":return"Charged: the car reached its target.";case"considering":return"Working out the cheapest plan.";default:return i.plugged_in===!1?"The car is unplugged.":"Waiting for the car."}}function Rt(i,t,e=new Date){if(!i.departure)return null;let s=i.plan?.summary||{},r=i.expected_soc_at_departure_pct??s.expected_soc_at_departure_pct,o=i.target_soc_pct??s.target_soc_pct,n=i.shortfall_pct??(r!=null&&o!=null?Math.max(0,o-r):null);return{when:t.moment(i.departure,e),expected:r==null?null:t.percent(r),target:o==null?null:t.percent(o),shortfall:n!=null&&n>=.5?t.percent(n):null}}var he=15e3,le=new Set(["plan_executing_charging_now","plan_executing_overridden","plan_executing_discharging"]),ot=class extends x{static properties={hass:{attribute:!1},_config:{state:!0},_data:{state:!0},_problem:{state:!0},_error:{state:!0},_width:{state:!0}};static getConfigElement(){return document.createElement("ev-flex-card-editor")}static async getStubConfig(t){return{device_id:(await t.callWS({type:"ev_flex/vehicles"}).catch(()=>[]))[0]?.device_id??""}}setConfig(t){if(!t||typeof t!="object")throw new Error("Invalid configuration");this._config?.device_id!==t.device_id&&(this._unsubscribe(),this._data=void 0,this._problem=t.device_id?void 0:"no_vehicle"),this._config={...t}}getCardSize(){return 7}getGridOptions(){return{columns:12,min_columns:6,rows:"auto"}}connectedCallback(){super.connectedCallback(),this._resize=new ResizeObserver(t=>{let e=Math.floor(t[0].contentRect.width);e>0&&e!==this._width&&(this._width=e)}),this.updateComplete.then(()=>{let t=this.renderRoot.querySelector(".frame");t&&this._resize&&this._resize.observe(t)})}disconnectedCallback(){super.disconnectedCallback(),this._resize?.disconnect(),this._resize=void 0,this._unsubscribe()}shouldUpdate(t){if(!t.has("hass")||t.size>1)return!0;let e=t.get("hass");return!e||!this._data?.entities||!this._subscription||e.locale!==this.hass.locale||e.themes!==this.hass.themes?!0:Object.values(this._data.entities).some(s=>s&&e.states[s]!==this.hass.states[s])}updated(){this.hass&&this._config?.device_id&&!this._subscription&&this.isConnected&&this._subscribe();let t=this.renderRoot.querySelector(".frame");t&&this._resize&&t!==this._observed&&(this._observed=t,this._resize.observe(t))}_subscribe(){let t=this._config.device_id;this._subscription=this.hass.connection.subscribeMessage(e=>this._received(e),{type:"ev_flex/vehicle_plan/subscribe",device_id:t}).catch(e=>{this._subscription=void 0,this._problem=e?.code==="not_found"?"not_found":"unavailable",this._problem==="unavailable"&&this._retryLater()})}_received(t){if(t.problem==="unavailable"&&!t.prices){this._unsubscribe(),this._problem="unavailable",this._retryLater();return}this._data=t,this._problem=t.problem||void 0}_retryLater(){clearTimeout(this._retry),this._retry=setTimeout(()=>this.requestUpdate(),he)}_unsubscribe(){clearTimeout(this._retry);let t=this._subscription;this._subscription=void 0,t?.then(e=>e?.()).catch(()=>{})}_state(t){let e=this._data?.entities?.[t];return e?this.hass.states[e]:void 0}async _call(t,e,s){this._error=void 0;try{await this.hass.callService(t,e,s)}catch(r){this._error=r?.message||String(r)}}_toggle(t){let e=this._state(t);e&&this._call("switch",e.state==="on"?"turn_off":"turn_on",{entity_id:e.entity_id})}_setDeparture(t){let e=this._state("departure_time");e&&t.target.value&&this._call("time","set_value",{entity_id:e.entity_id,time:`${t.target.value}:00`})}_setTarget(t){let e=this._state("target_soc"),s=Number(t.target.value);e&&Number.isFinite(s)&&this._call("number","set_value",{entity_id:e.entity_id,value:s})}_action(t){this._call("ev_flex",t,{device_id:this._config.device_id})}render(){if(!this._config||!this.hass)return c;let t=this._data,e=new V(this.hass),s=new Date,r=this._problem&&(!t||["not_found","no_vehicle","unavailable"].includes(this._problem));return _`<ha-card>
      <div class="frame">
        ${t&&!r?this._header(t,e,s):_`<div class="name">EV Flex</div>`}
        ${this._problem?_`<div class="message ${this._problem}">${Tt(this._problem)}</div>`:c}
        ${t&&!r&&this._width?_`<div class="chart-box">${kt(t,{width:this._width,formats:e,timeZone:it(this.hass),now:s})}</div>
              ${this._legend(t,e)}`:c}
        ${t&&!r?this._controls(t):c}
        ${this._error?_`<div class="message error">${this._error}</div>`:c}
      </div>
    </ha-card>`}_header(t,e,s){let r=this._state("state"),o=r?this.hass.formatEntityState?.(r)??r.state:t.status??"",n=Rt(t,e,s);return _`<div class="header">
      <div class="title"><span class="name">${t.name}</span><span class="state">${o}</span></div>
      <div class="reason">${Nt(t,e,s)}</div>
      ${n?_`<div class="departure-line">
            ${`Departure ${n.when}: ${n.expected??"–"} expected${n.target?`, target ${n.target}`:""}`}
            ${n.shortfall?_`<span class="shortfall">${`${n.shortfall} short`}</span>`:c}
          </div>`:c}
    </div>`}_legend(t,e){let s=Et(t);return _`<div class="legend">
      <span class="key price">Price (${t.currency}/kWh)</span>
      <span class="key charge">${nt("Charging",s.charge,e)}</span>
      ${s.discharge>0?_`<span class="key discharge">${nt("Discharging",s.discharge,e)}</span>`:c}
      <span class="key soc">Battery (%)</span>
    </div>`}_switch(t,e){let s=this._state(t);if(!s)return c;let r=s.state==="on";return _`<button class="toggle ${r?"on":""}" role="switch" aria-checked=${r?"true":"false"}
      ?disabled=${s.state==="unavailable"} @click=${()=>this._toggle(t)}>${`${e}: ${r?"on":"off"}`}</button>`}_controls(t){let e=this._state("departure_time"),s=this._state("target_soc"),r=le.has(t.status);return _`<div class="controls">
      ${this._switch("smart_charging","Smart charging")}
      ${t.can_discharge?this._switch("v2g","V2G"):c}
      ${e?_`<label>Departure <input type="time" .value=${(e.state||"").slice(0,5)} @change=${this._setDeparture} /></label>`:c}
      ${s?_`<label>Target <input type="number" min=${s.attributes.min??10} max=${s.attributes.max??100}
            step=${s.attributes.step??1} .value=${String(Math.round(Number(s.state))||"")} @change=${this._setTarget} /> %</label>`:c}
      <button class="action" @click=${()=>this._action("charge_now")}>Charge now</button>
      <button class="action" ?disabled=${!r} @click=${()=>this._action("cancel_override")}>Cancel override</button>
    </div>`}static styles=T`
    :host {
      --ev-flex-price: var(--orange-color, #ff9800);
      --ev-flex-charge: var(--success-color, #43a047);
      --ev-flex-discharge: var(--purple-color, #926bc7);
      --ev-flex-soc: var(--primary-color, #03a9f4);
    }
    .frame {
      padding: 16px;
    }
    .title {
      display: flex;
      flex-wrap: wrap;
      align-items: baseline;
      justify-content: space-between;
      gap: 4px 12px;
    }
    .name {
      font-size: var(--ha-font-size-xl, 20px);
      color: var(--primary-text-color);
    }
    .state {
      font-weight: var(--ha-font-weight-medium, 500);
      color: var(--primary-color);
    }
    .reason,
    .departure-line {
      margin-top: 6px;
      color: var(--primary-text-color);
      line-height: 1.4;
    }
    .departure-line {
      color: var(--secondary-text-color);
    }
    .shortfall {
      color: var(--warning-color, #ffa600);
      font-weight: var(--ha-font-weight-medium, 500);
      margin-left: 4px;
    }
    .message {
      margin-top: 8px;
      padding: 8px 12px;
      border-radius: var(--ha-card-border-radius, 12px);
      background: var(--secondary-background-color);
      color: var(--primary-text-color);
    }
    .message.error,
    .message.not_found {
      color: var(--error-color, #db4437);
    }
    .chart-box {
      margin: 12px -4px 0;
      overflow: hidden;
    }
    .chart {
      display: block;
      font-size: 11px;
      font-family: inherit;
    }
    .chart .grid line {
      stroke: var(--divider-color);
      stroke-width: 1;
    }
    .chart .axis {
      fill: var(--secondary-text-color);
    }
    .chart .price {
      fill: none;
      stroke: var(--ev-flex-price);
      stroke-width: 2;
    }
    .chart rect.charge {
      fill: var(--ev-flex-charge);
      opacity: 0.75;
    }
    .chart rect.discharge {
      fill: var(--ev-flex-discharge);
      opacity: 0.75;
    }
    .chart .soc {
      fill: none;
      stroke: var(--ev-flex-soc);
      stroke-width: 2;
      stroke-dasharray: 5 3;
    }
    .chart .now line {
      stroke: var(--primary-text-color);
      stroke-width: 1;
    }
    .chart .now text,
    .chart .departure text {
      fill: var(--primary-text-color);
    }
    .chart .guessed rect {
      fill: var(--secondary-text-color);
      opacity: 0.08;
    }
    .chart .guessed text {
      fill: var(--secondary-text-color);
      font-style: italic;
    }
    .chart .departure line {
      stroke: var(--error-color, #db4437);
      stroke-dasharray: 3 3;
    }
    .chart .departure circle {
      fill: var(--ev-flex-soc);
      stroke: var(--card-background-color, #fff);
      stroke-width: 2;
    }
    .legend {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 14px;
      margin-top: 4px;
      font-size: 12px;
      color: var(--secondary-text-color);
    }
    .key::before {
      content: "";
      display: inline-block;
      width: 12px;
      height: 8px;
      margin-right: 5px;
      border-radius: 2px;
      vertical-align: middle;
    }
    .key.price::before {
      height: 2px;
      background: var(--ev-flex-price);
    }
    .key.charge::before {
      background: var(--ev-flex-charge);
    }
    .key.discharge::before {
      background: var(--ev-flex-discharge);
    }
    .key.soc::before {
      height: 0;
      border-top: 2px dashed var(--ev-flex-soc);
    }
    .controls {
      display: flex;
      flex-wrap: wrap;
      gap: 8px;
      margin-top: 14px;
      align-items: center;
    }
    button,
    input {
      font: inherit;
      color: var(--primary-text-color);
      background: var(--secondary-background-color);
      border: 1px solid var(--divider-color);
      border-radius: 18px;
      padding: 6px 12px;
    }
    input {
      border-radius: 8px;
      padding: 4px 6px;
      color-scheme: light dark;
    }
    input[type="number"] {
      width: 3.5em;
    }
    button {
      cursor: pointer;
    }
    button:disabled {
      opacity: 0.5;
      cursor: default;
    }
    button.toggle.on {
      background: var(--primary-color);
      border-color: var(--primary-color);
      color: var(--text-primary-color, #fff);
    }
    label {
      color: var(--secondary-text-color);
      display: inline-flex;
      align-items: center;
      gap: 6px;
    }
  `};customElements.get("ev-flex-card-editor")||customElements.define("ev-flex-card-editor",B);customElements.get("ev-flex-card")||(customElements.define("ev-flex-card",ot),window.customCards=window.customCards||[],window.customCards.push({type:"ev-flex-card",name:"EV Flex",description:"A car's charging plan against the prices, with its smart-charging controls.",preview:!0,documentationURL:"https://github.com/ev-flex/ev-flex#the-ev-flex-card"}));
